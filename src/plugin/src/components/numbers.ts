/**
 * A number typed into an input: undefined when it is empty or out of range. Positive by default;
 * `zeroAllowed` for values where 0 means something (an anomaly threshold of 0 lists every error).
 */
export function parseOptionalNumber(text: string, { zeroAllowed = false } = {}): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') {
    return undefined;
  }
  const value = Number(trimmed);
  return Number.isFinite(value) && (value > 0 || (zeroAllowed && value === 0)) ? value : undefined;
}
