import { useEffect, useState } from 'preact/hooks';
import { type LiveState, liveState, onLiveState } from '../api/live';

const TEXT: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  off: 'Offline',
};

/** Whether the event stream is up; announced politely to screen readers when it changes. */
export function LiveIndicator() {
  const [state, setState] = useState(liveState());
  useEffect(() => {
    // A change between the first render and this effect would otherwise be missed.
    setState(liveState());
    return onLiveState(setState);
  }, []);
  return (
    <span class={`live live-${state}`} role="status" data-live={state}>
      <span class="dot" aria-hidden="true" />
      {TEXT[state]}
    </span>
  );
}
