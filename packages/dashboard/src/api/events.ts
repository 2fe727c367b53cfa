/**
 * Event documents and the seq type, in one place: `seq` is opaque here (kept as a decimal
 * string), so the API may serve it as Int or as a 64-bit-safe string scalar; only `SeqVar` and
 * the `$after` variable types below name the API's type.
 */
import { graphql, type ResultOf } from '../graphql';

export const EVENT_FIELDS = graphql(`
  fragment EventFields on Event {
    seq type action severity actorId ownerId resourceId data createdAt
  }
`);

export const EventsSubscription = graphql(
  `
  subscription LiveEvents($after: Int) {
    events(after: $after) { ...EventFields }
  }
`,
  [EVENT_FIELDS],
);

export const EventsQuery = graphql(
  `
  query Events($after: Int, $first: Int, $resourceId: ID) {
    events(after: $after, first: $first, resourceId: $resourceId) { ...EventFields }
  }
`,
  [EVENT_FIELDS],
);

export type LiveEvent = ResultOf<typeof EVENT_FIELDS>;

/** What `$after` takes, made from an opaque seq string. */
export type SeqVar = number;
export const seqVar = (seq: string): SeqVar => Number(seq);

/** Total order on opaque decimal seqs (no precision loss beyond 2^53). */
export function seqAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
