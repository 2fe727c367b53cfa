/** A minimal GraphQL-over-SSE client (the protocol graphql-yoga speaks in "distinct connections" mode). */
export interface SseSubscription<T> {
  readonly received: T[];
  /** Resolves once the server has answered the request (the stream is open). */
  readonly opened: Promise<void>;
  close(): void;
}

export function subscribe<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): SseSubscription<T> {
  const controller = new AbortController();
  const received: T[] = [];
  let markOpen: () => void = () => {};
  const opened = new Promise<void>((r) => {
    markOpen = r;
  });
  void (async () => {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: controller.signal,
      });
      markOpen();
      const reader = res.body?.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (message.includes('event: next') && data) received.push(JSON.parse(data) as T);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      markOpen(); // aborted or the server went away
    }
  })();
  return { received, opened, close: () => controller.abort() };
}
