import type { ApiError } from '../api/client';

/** A failed request as the API typed it: its code, then its message. */
export function ErrorNote({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <strong>{error.code}</strong>: {error.message}
    </p>
  );
}
