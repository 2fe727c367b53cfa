/**
 * Event documents and the seq type, in one place: `seq` is the API's 64-bit `BigInt` scalar,
 * a decimal string, kept as such (never a JS number, which loses precision past 2^53).
 */
import { graphql, type ResultOf } from '../graphql';

export const EVENT_FIELDS = graphql(`
  fragment EventFields on Event {
    seq type action severity actorId ownerId resourceId data createdAt
  }
`);

export const EventsSubscription = graphql(
  `
  subscription LiveEvents($after: BigInt) {
    events(after: $after) { ...EventFields }
  }
`,
  [EVENT_FIELDS],
);

/** Newest first: `last` events below `before` (the smallest seq shown), to page back. */
export const EventsNewestQuery = graphql(
  `
  query EventsNewest($before: BigInt, $last: Int, $resourceId: ID) {
    events(before: $before, last: $last, resourceId: $resourceId) { ...EventFields }
  }
`,
  [EVENT_FIELDS],
);

export type LiveEvent = ResultOf<typeof EVENT_FIELDS>;

/** What `$after` takes: the seq string as it came. */
export type SeqVar = string;
export const seqVar = (seq: string): SeqVar => seq;

/** Total order on decimal seqs, without turning them into numbers. */
export function seqAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** History and live events together: each seq once, newest first. */
export function mergeNewestFirst(have: LiveEvent[], more: LiveEvent[]): LiveEvent[] {
  const seen = new Set(have.map((e) => String(e.seq)));
  const next = [...have, ...more.filter((e) => !seen.has(String(e.seq)))];
  return next.sort((a, b) => (seqAfter(String(a.seq), String(b.seq)) ? -1 : 1));
}
