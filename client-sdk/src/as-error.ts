/** Anything thrown, as an Error (the SDK's `error` event and its fallback reasons carry Errors). */
export const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
