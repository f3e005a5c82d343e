// base58btc decoding (draft-msporny-base58) for the did:key resolvers of the oracle scripts.

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58btcDecode(text) {
  let n = 0n;
  for(const ch of text) {
    const v = B58.indexOf(ch);
    if(v < 0) {
      throw new Error('invalid base58btc');
    }
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while(n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for(const ch of text) {
    if(ch !== '1') {
      break;
    }
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}
