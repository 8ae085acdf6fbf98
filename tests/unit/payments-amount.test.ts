// Minor units to the ledger's decimal amounts: exact or refused, never rounded.
import { describe, expect, it } from 'vitest';
import { minorToDecimal } from '../../agent/network/payments.js';
import { DecimalAmount } from '../../protocol/index.js';

describe('minorToDecimal', () => {
  it.each([
    ['0', 6, '0'],
    ['1', 6, '0.000001'],
    ['10', 6, '0.00001'],
    ['1000000', 6, '1'],
    ['1500000', 6, '1.5'],
    ['123456789', 6, '123.456789'],
    ['999999999999999', 6, '999999999.999999'],
    ['42', 0, '42'],
    ['999999999', 0, '999999999'],
    ['5', 1, '0.5'],
    ['1000000000000', 18, '0.000001'],
    ['2500000000000000000', 18, '2.5'],
    ['000', 6, '0'],
  ])('%s at %i decimals is %s', (minor, decimals, out) => {
    expect(minorToDecimal(minor, decimals)).toBe(out);
    expect(DecimalAmount.safeParse(out).success).toBe(true);
  });

  it('takes bigints too', () => {
    expect(minorToDecimal(2n ** 40n, 6)).toBe('1099511.627776');
  });

  it.each([
    ['1', 7, 'a seventh decimal place'],
    ['1', 18, 'one wei'],
    ['1000000000000000', 6, 'ten integer digits'],
    ['1000000000', 0, 'ten integer digits'],
    ['-1', 6, 'a negative amount'],
    ['1.5', 6, 'not an integer'],
    ['', 6, 'empty text'],
    ['0x10', 6, 'hex'],
    ['1', -1, 'negative decimals'],
    ['1', 1.5, 'fractional decimals'],
  ])('refuses %s at %s decimals (%s)', (minor, decimals) => {
    expect(minorToDecimal(minor, decimals)).toBeNull();
  });

  it('refuses a negative bigint', () => {
    expect(minorToDecimal(-1n, 6)).toBeNull();
  });
});
