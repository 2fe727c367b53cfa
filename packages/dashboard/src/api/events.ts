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

export const EventsQuery = graphql(
  `
  query Events($after: BigInt, $first: Int, $resourceId: ID) {
    events(after: $after, first: $first, resourceId: $resourceId) { ...EventFields }
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
