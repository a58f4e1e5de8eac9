// TEMP STUB (replaced by the parsers helper's file)
export function stripAnsi(s: string): string { return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''); }
export function cleanReason(text: string, _opts?: { prompt?: string }): string {
  const lines = stripAnsi(text).split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? '').slice(0, 300);
}
export function retryableFromText(text: string): { retryable: boolean; status?: number } {
  const m = /\b(429|529|50\d)\b/.exec(text);
  return { retryable: !!m || /rate.?limit|overloaded/i.test(text), ...(m ? { status: Number(m[1]) } : {}) };
}
