// Vouchers offline: ethers' EIP-712 encoder against the public vector (the "Mail" example of
// ethereum/EIPs assets/eip-712/Example.js), and verifyVoucher's verdicts with fresh keys.
// The contract's agreement with verifyVoucher is in tests/integration/escrow.test.ts.
import { Signature, SigningKey, TypedDataEncoder, Wallet, concat, id, keccak256, toUtf8Bytes, type Signer } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  SignedVoucher,
  isCanonicalSignature,
  recoverVoucherSigner,
  verifyVoucher,
  voucherDigest,
  voucherDomain,
  voucherTypedData,
  type Voucher,
  type VoucherExpectation,
} from '../../protocol/index.js';

describe('EIP-712 public vector (ethereum/EIPs assets/eip-712/Example.js, Mail)', () => {
  // The newest Example.js adds a non-standard `httpOrigin` to the domain, which ethers'
  // hashDomain refuses; hashing the domain as an ordinary struct is what the example does too.
  const domainTypes = {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'httpOrigin', type: 'string' },
      { name: 'verifyingContract', type: 'address' },
    ],
  };
  const domain = { name: 'Ether Mail', version: '1', chainId: 1, httpOrigin: 'https://ether-mail.eth', verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' };
  const types = {
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  };
  const message = {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  };
  const encoder = TypedDataEncoder.from(types);
  const digest = keccak256(concat(['0x1901', TypedDataEncoder.hashStruct('EIP712Domain', domainTypes, domain), encoder.hash(message)]));

  it('encodes the type, type hash, data and struct hash', () => {
    expect(encoder.encodeType('Mail')).toBe('Mail(Person from,Person to,string contents)Person(string name,address wallet)');
    expect(id(encoder.encodeType('Mail'))).toBe('0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2');
    expect(encoder.encodeData('Mail', message)).toBe(
      '0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2fc71e5fa27ff56c350aa531bc129ebdf613b772b6604664f5d8dbe21b85eb0c8cd54f074a4af31b4411ff6a60c9719dbd559c221c8ac3492d9d872b041d703d1b5aadf3154a261abdd9086fc627b61efca26ae5702701d05cd2305f7c52a2fc8',
    );
    expect(encoder.hash(message)).toBe('0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e');
  });

  it('gives the signing digest and the signature of keccak("cow")', () => {
    expect(digest).toBe('0xa5f5fa6b05af38f2e9d2889ac36f5a4ba31e20646781d23739de458d86d6593e');
    const key = new SigningKey(keccak256(toUtf8Bytes('cow')));
    expect(new Wallet(key).address.toLowerCase()).toBe('0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826');
    const sig = key.sign(digest);
    expect({ v: sig.v, r: sig.r, s: sig.s }).toEqual({
      v: 27,
      r: '0x24040eda35064d96c51f3308b5fae290edae563327348886a366ed604e0c0480',
      s: '0x42bbabf2fae4b00598596a99d577dde56ff9d013e861f611cfe7b0728e1cd057',
    });
  });

  it('matches the earlier, standard-domain version through TypedDataEncoder.hash itself', () => {
    // The same example before httpOrigin was added (EIP-712 as published): a domain ethers accepts.
    const standard = { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: domain.verifyingContract };
    expect(TypedDataEncoder.hashDomain(standard)).toBe('0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f');
    expect(TypedDataEncoder.hash(standard, types, message)).toBe('0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2');
  });
});

describe('verifyVoucher', () => {
  const hub = Wallet.createRandom();
  const payee = Wallet.createRandom().address;
  const token = Wallet.createRandom().address;
  const escrow = Wallet.createRandom().address;
  const chainId = 8453;
  const now = 1_750_000_000;
  const expect_: VoucherExpectation = { signer: hub.address, payee, token, chainId, escrow, now };
  const base: Voucher = { payer: hub.address, payee, token, cumulativeAmount: '2500000', expiry: now + 3600 };

  const sign = async (v: Partial<Voucher> = {}, opts: { key?: Signer; chainId?: number; escrow?: string } = {}): Promise<SignedVoucher> => {
    const voucher = { ...base, ...v };
    const domain = voucherDomain(opts.chainId ?? chainId, opts.escrow ?? escrow);
    const t = voucherTypedData(domain, voucher);
    return { voucher, domain, signature: await (opts.key ?? hub).signTypedData(t.domain, t.types, t.message) };
  };

  it('accepts the hub’s voucher and says what it adds', async () => {
    const signed = await sign();
    expect(verifyVoucher(signed, expect_)).toEqual({ ok: true, expired: false, increment: '2500000' });
    expect(verifyVoucher(signed, { ...expect_, lastAccepted: '1000000' })).toEqual({ ok: true, expired: false, increment: '1500000' });
    expect(recoverVoucherSigner(signed)).toBe(hub.address);
    expect(SignedVoucher.parse(JSON.parse(JSON.stringify(signed)))).toEqual(signed);
  });

  it('signs exactly voucherDigest', async () => {
    const signed = await sign();
    const sig = Signature.from(signed.signature);
    expect(new SigningKey(hub.privateKey).sign(voucherDigest(signed.domain, signed.voucher)).serialized).toBe(sig.serialized);
  });

  it('reports expiry without refusing the earning', async () => {
    const signed = await sign({ expiry: now - 1 });
    expect(verifyVoucher(signed, expect_)).toEqual({ ok: true, expired: true, increment: '2500000' });
    // The contract refuses only when block.timestamp > expiry, so the last second still counts.
    expect(verifyVoucher(await sign({ expiry: now }), expect_)).toMatchObject({ ok: true, expired: false });
  });

  it.each([
    ['a forged key', { key: Wallet.createRandom() }, {}, 'wrong-signer'],
    ['another chain id', { chainId: 1 }, {}, 'wrong-chain'],
    ['another contract', { escrow: Wallet.createRandom().address }, {}, 'wrong-contract'],
    ['another payee', {}, { payee: Wallet.createRandom().address }, 'wrong-payee'],
    ['another token', {}, { token: Wallet.createRandom().address }, 'wrong-token'],
  ] as const)('refuses %s', async (_name, opts, v, reason) => {
    expect(verifyVoucher(await sign(v, opts), expect_)).toMatchObject({ ok: false, reason });
  });

  it('refuses a voucher drawn on a payer that is not the hub, even if that payer signed it', async () => {
    const other = Wallet.createRandom();
    expect(verifyVoucher(await sign({ payer: other.address }, { key: other }), expect_)).toMatchObject({ ok: false, reason: 'wrong-payer' });
  });

  it('refuses a total not above the last one accepted', async () => {
    const signed = await sign();
    expect(verifyVoucher(signed, { ...expect_, lastAccepted: 2_500_000n })).toMatchObject({ ok: false, reason: 'not-above-last' });
    expect(verifyVoucher(signed, { ...expect_, lastAccepted: '3000000' })).toMatchObject({ ok: false, reason: 'not-above-last' });
    expect(verifyVoucher(await sign({ cumulativeAmount: '0' }), expect_)).toMatchObject({ ok: false, reason: 'not-above-last' });
  });

  it('refuses a signature whose domain label was changed after signing', async () => {
    const signed = await sign({}, { chainId: 1 });
    expect(verifyVoucher({ ...signed, domain: voucherDomain(chainId, escrow) }, expect_)).toMatchObject({ ok: false, reason: 'wrong-signer' });
  });

  it('refuses a tampered amount', async () => {
    const signed = await sign();
    expect(verifyVoucher({ ...signed, voucher: { ...signed.voucher, cumulativeAmount: '2500001' } }, expect_)).toMatchObject({ ok: false, reason: 'wrong-signer' });
  });

  it('refuses malformed vouchers', async () => {
    const signed = await sign();
    const bad: unknown[] = [
      null,
      'voucher',
      {},
      { ...signed, signature: '0x1234' },
      { ...signed, voucher: { ...signed.voucher, cumulativeAmount: '1.5' } },
      { ...signed, voucher: { ...signed.voucher, cumulativeAmount: '-1' } },
      { ...signed, voucher: { ...signed.voucher, cumulativeAmount: '01' } },
      { ...signed, voucher: { ...signed.voucher, cumulativeAmount: (1n << 256n).toString() } },
      { ...signed, voucher: { ...signed.voucher, cumulativeAmount: 2500000 } },
      { ...signed, voucher: { ...signed.voucher, expiry: '1750003600' } },
      { ...signed, voucher: { ...signed.voucher, payee: 'not an address' } },
      { ...signed, voucher: { ...signed.voucher, extra: 1 } },
      { ...signed, domain: { ...signed.domain, name: 'Other Escrow' } },
      { ...signed, domain: { ...signed.domain, version: '2' } },
      // v as 0/1 (what some signers emit) is not what the contract takes.
      { ...signed, signature: signed.signature.slice(0, 130) + (Number.parseInt(signed.signature.slice(130), 16) - 27).toString(16).padStart(2, '0') },
    ];
    for (const b of bad) expect(verifyVoucher(b, expect_)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('takes only canonical signatures', async () => {
    const signed = await sign();
    expect(isCanonicalSignature(signed.signature)).toBe(true);
    const s = BigInt(`0x${signed.signature.slice(66, 130)}`);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const v = Number.parseInt(signed.signature.slice(130), 16);
    const twin = `${signed.signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
    expect(isCanonicalSignature(twin)).toBe(false);
    expect(recoverVoucherSigner({ ...signed, signature: twin })).toBeNull();
  });
});
