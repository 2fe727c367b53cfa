import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineReader } from '../../src/qmp/line-reader.js';

/** One line of a recorded transcript (see test/fixtures/record-qmp-transcripts.ts). */
export type TranscriptEntry = { from: 'qemu' | 'client'; line: string } | { from: 'qemu'; eof: true };

export function loadTranscript(name: string): TranscriptEntry[] {
  const text = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'qmp', `${name}.jsonl`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TranscriptEntry);
}

/** QEMU's lines of a transcript, by their JSON `event`/`return`/`error` content, for hand-made scripts. */
export function qemuLines(entries: TranscriptEntry[]): string[] {
  return entries.flatMap((entry) => ('line' in entry && entry.from === 'qemu' ? [entry.line] : []));
}

export interface ClientCommand {
  execute: string;
  id: string;
  arguments?: unknown;
}

/** The server's side of one client connection. */
export class FakePeer {
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(private readonly socket: net.Socket) {
    const reader = new LineReader();
    socket.on('data', (chunk: Buffer) => {
      this.lines.push(...reader.push(chunk));
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.wake?.());
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  send(line: string | object): void {
    if (!this.socket.destroyed) this.socket.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }

  /** The next line the client wrote; rejects if the client closes first. */
  async nextLine(): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.socket.destroyed) throw new Error('client closed the connection');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  async nextCommand(): Promise<ClientCommand> {
    return JSON.parse(await this.nextLine()) as ClientCommand;
  }

  /** Answer `qmp_capabilities` after having sent the greeting: the usual start of a session. */
  async handshake(greeting: string): Promise<void> {
    this.send(greeting);
    const command = await this.nextCommand();
    if (command.execute !== 'qmp_capabilities') throw new Error(`expected qmp_capabilities, got ${command.execute}`);
    this.send({ return: {}, id: command.id });
  }

  /** EOF from the server side. */
  end(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  /** Cut the connection at once. */
  destroy(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  /**
   * Replay a transcript: QEMU's lines are sent, each client line waits for the client's next
   * command with the same `execute`, and the recorded ids in later QEMU lines become the client's.
   */
  async play(entries: TranscriptEntry[]): Promise<void> {
    const ids = new Map<string, string>();
    for (const entry of entries) {
      if (!('line' in entry)) {
        await this.end();
        return;
      }
      if (entry.from === 'qemu') {
        let line = entry.line;
        for (const [recorded, actual] of ids) line = line.replace(JSON.stringify(recorded), JSON.stringify(actual));
        this.send(line);
        continue;
      }
      const recorded = tryParse(entry.line);
      if (!recorded) continue; // raw bytes the recorder wrote; our client never sends garbage
      const actual = await this.nextCommand();
      if (actual.execute !== recorded.execute) {
        throw new Error(`transcript expected ${recorded.execute}, client sent ${actual.execute}`);
      }
      ids.set(recorded.id, actual.id);
    }
  }
}

function tryParse(line: string): ClientCommand | undefined {
  try {
    return JSON.parse(line) as ClientCommand;
  } catch {
    return undefined;
  }
}

/**
 * A QMP server on a unix socket in a temp dir that, like QEMU, serves one client at a time: a
 * second connection is accepted but handed to the script only after the first one closes.
 */
export class FakeQmpServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'slipway-fakeqmp-'));
  readonly socketPath = join(this.dir, 'qmp.sock');
  private server: net.Server | undefined;
  private readonly peers = new Set<FakePeer>();
  private queue: Promise<void> = Promise.resolve();
  /** Every connection the script has served, in order. */
  readonly served: FakePeer[] = [];

  /** Open connections, served or still waiting for their turn. */
  get connections(): number {
    return this.peers.size;
  }

  constructor(private script: (peer: FakePeer) => Promise<void>) {}

  async listen(): Promise<void> {
    const server = net.createServer((socket) => {
      const peer = new FakePeer(socket);
      this.peers.add(peer);
      void peer.closed.then(() => this.peers.delete(peer));
      this.queue = this.queue.then(async () => {
        if (peer.isClosed) return;
        this.served.push(peer);
        await this.script(peer).catch(() => {});
        await peer.closed;
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
  }

  /** Stop listening (the socket file goes) and cut every connection: QEMU dying. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closing = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const peer of this.peers) void peer.destroy();
    await Promise.all([...this.peers].map((peer) => peer.closed));
    await closing;
    this.queue = Promise.resolve();
  }

  /** Listen again on the same path with a new script: QEMU restarted. */
  async restartWith(script: (peer: FakePeer) => Promise<void>): Promise<void> {
    this.script = script;
    rmSync(this.socketPath, { force: true });
    await this.listen();
  }

  /** Stop, then everything removed. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startFakeQmp(script: (peer: FakePeer) => Promise<void>): Promise<FakeQmpServer> {
  const server = new FakeQmpServer(script);
  await server.listen();
  return server;
}
