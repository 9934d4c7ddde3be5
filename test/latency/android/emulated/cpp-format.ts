/** Format a double like C++ `std::ostream << double` with the default precision (printf "%g", 6 digits). */
export function formatCppDouble(value: number, precision = 6): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa = '0', exp = '0'] = value.toExponential(precision - 1).split('e');
    const expNumber = Number(exp);
    const expText = `${expNumber < 0 ? '-' : '+'}${String(Math.abs(expNumber)).padStart(2, '0')}`;
    return `${stripTrailingZeros(mantissa)}e${expText}`;
  }
  return stripTrailingZeros(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function stripTrailingZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
