/** Data hooks: a query that refetches when the live stream says something it shows changed. */
import type { TypedDocumentNode } from '@urql/core';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, query } from './client';
import type { LiveEvent } from './events';
import { onLiveEvent } from './live';

export interface QueryState<D> {
  data: D | null;
  error: ApiError | null;
  loading: boolean;
  refetch: () => void;
}

export interface QueryOptions {
  /** Refetch when an event this returns true for arrives (and after every reconnect). */
  refetchOn?: (e: LiveEvent) => boolean;
  pause?: boolean;
}

export function useQuery<D, V extends Record<string, unknown>>(
  doc: TypedDocumentNode<D, V>,
  vars: V,
  options: QueryOptions = {},
): QueryState<D> {
  const [data, setData] = useState<D | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const key = JSON.stringify(vars);
  const latest = useRef(0);
  const refetchOn = useRef(options.refetchOn);
  refetchOn.current = options.refetchOn;

  const refetch = useCallback(() => {
    const mine = ++latest.current;
    setLoading(true);
    query(doc, vars).then(
      (d) => {
        if (mine !== latest.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== latest.current) return;
        setError(e instanceof ApiError ? e : new ApiError('NETWORK_ERROR', String(e)));
        setLoading(false);
      },
    );
  }, [doc, key]);

  useEffect(() => {
    if (options.pause) return;
    refetch();
  }, [refetch, options.pause]);

  useEffect(() => {
    // Several events in a burst cost one refetch.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(refetch, 150);
    };
    const off = onLiveEvent({ event: (e) => refetchOn.current?.(e) && soon(), resync: soon });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [refetch]);

  return { data, error, loading, refetch };
}
