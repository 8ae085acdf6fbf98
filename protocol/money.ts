// Money and energy as exact numbers. Amounts cross boundaries as decimal text (DecimalAmount) and
// are computed as integer millionths of the currency unit (bigint "micros"), so no sum of many small
// costs drifts the way floating point would. Energy is integer milliwatt-hours. Pure: no I/O.

/** Decimal text to integer millionths, so prices compare exactly. */
export function decimalToMicros(amount: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,6}))?$/.exec(amount);
  if (!m) throw new Error(`not a decimal amount: ${amount}`);
  const micros = BigInt(m[2]!) * 1_000_000n + BigInt((m[3] ?? '').padEnd(6, '0'));
  return m[1] === '-' ? -micros : micros;
}

/** Integer millionths back to decimal text, trailing zeros dropped but at least `minDecimals`. */
export function microsToDecimal(micros: bigint, minDecimals = 0): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / 1_000_000n;
  let frac = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(minDecimals, '0');
  const text = frac ? `${whole}.${frac}` : `${whole}`;
  return negative && abs !== 0n ? `-${text}` : text;
}

/** a*b/d rounded half away from zero, exact for any size (bigint). */
export function mulDivRound(a: bigint, b: bigint, d: bigint): bigint {
  if (d === 0n) throw new Error('mulDivRound: division by zero');
  const n = a * b;
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (an + ad / 2n) / ad;
  return negative ? -q : q;
}

/** The cost in micros of `mwh` milliwatt-hours at `microsPerKwh`: mWh x price / 1,000,000. */
export function energyCostMicros(mwh: bigint, microsPerKwh: bigint): bigint {
  return mulDivRound(mwh, microsPerKwh, 1_000_000n);
}
