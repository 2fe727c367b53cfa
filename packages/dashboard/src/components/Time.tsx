import { absolute, relative } from '../format';

/** A relative time with the absolute one on hover (and for screen readers, in `datetime`). */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={absolute(iso)}>
      {relative(iso)}
    </time>
  );
}
