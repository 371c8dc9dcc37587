/** A positive number typed into an input, or undefined when it is empty or not a positive number. */
export function parseOptionalNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') {
    return undefined;
  }
  const value = Number(trimmed);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
