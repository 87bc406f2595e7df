// Conversions between form fields and the API's values.

/** `"Home, urgent"` → `["home", "urgent"]` (the API wants `[a-z0-9_-]`, it says so if not). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.trim().toLowerCase()).filter(Boolean))];
}

/** A `datetime-local` value (local time) as RFC 3339, or `null` when empty. */
export function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

/** An RFC 3339 instant as a `datetime-local` value (local time), `''` for none. */
export function toLocalInput(instant: string | null | undefined): string {
  if (!instant) return '';
  const date = new Date(instant);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatInstant(instant: string): string {
  return dateTime.format(new Date(instant));
}
