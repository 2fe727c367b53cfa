/**
 * One event subscription for the whole app (graphql-sse over /graphql). It remembers the last
 * seq it delivered and, after a dropped connection, resubscribes with `after: lastSeq`, so the
 * API replays exactly what was missed; anything at or below lastSeq is dropped, so nothing
 * repeats. Listeners get each event once, and a `resync` after a reconnect that had no
 * position to resume from (no event seen yet), when they should re-read what they show.
 */
import { stringifyDocument } from '@urql/core';
import { createClient } from 'graphql-sse';
import { GRAPHQL_URL } from './client';
import { EventsSubscription, type LiveEvent, seqAfter, seqVar } from './events';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'off';
type Listener = { event(e: LiveEvent): void; resync?(): void };

const listeners = new Set<Listener>();
const stateListeners = new Set<(s: LiveState) => void>();
let state: LiveState = 'off';
let lastSeq: string | null = null;
let stop: (() => void) | null = null;
let generation = 0;

export function liveState(): LiveState {
  return state;
}

function setState(next: LiveState): void {
  state = next;
  for (const l of stateListeners) l(next);
}

export function onLiveState(l: (s: LiveState) => void): () => void {
  stateListeners.add(l);
  return () => stateListeners.delete(l);
}

export function onLiveEvent(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Starts (or restarts, for a new token) the stream. */
export function startLive(token: string): void {
  stopLive();
  const mine = ++generation;
  const client = createClient({
    url: GRAPHQL_URL,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0, // reconnects are ours, with a fresh `after`
  });
  let attempt = 0;
  const connect = (reconnecting: boolean) => {
    if (mine !== generation) return;
    setState(reconnecting ? 'reconnecting' : 'connecting');
    // Without a position the API starts at its newest event: what happened meanwhile is unknown.
    const gapPossible = reconnecting && lastSeq === null;
    const variables = lastSeq === null ? {} : { after: seqVar(lastSeq) };
    const unsubscribe = client.subscribe<{ events: LiveEvent }>(
      { query: stringifyDocument(EventsSubscription), variables },
      {
        next: (msg) => {
          const e = msg.data?.events;
          if (!e) return;
          const seq = String(e.seq);
          if (lastSeq !== null && !seqAfter(seq, lastSeq)) return;
          lastSeq = seq;
          for (const l of listeners) l.event(e);
        },
        error: () => retry(),
        complete: () => retry(),
      },
      {
        connected: () => {
          attempt = 0;
          setState('live');
          if (gapPossible) for (const l of listeners) l.resync?.();
        },
      },
    );
    let retried = false;
    const retry = () => {
      if (retried) return;
      retried = true;
      unsubscribe();
      if (mine !== generation) return;
      setState('reconnecting');
      const delay = Math.min(10_000, 500 * 2 ** attempt++);
      setTimeout(() => connect(true), delay);
    };
    stop = () => {
      unsubscribe();
      client.dispose();
    };
  };
  connect(false);
}

export function stopLive(): void {
  generation++;
  stop?.();
  stop = null;
  lastSeq = null;
  setState('off');
}
