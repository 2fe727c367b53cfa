/**
 * A Kysely plugin that times every statement from the moment it is handed to the driver to its
 * result, by kind and table (`insert events`, `update resources`, `raw select pg_advisory…`):
 * where a createResource spends its database time, to compare at 10k and 1M rows.
 */
import { performance } from 'node:perf_hooks';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

/** Mean ms per operation and statements per operation, by statement key. */
export type StatementTimes = { key: string; msPerOp: number; perOp: number }[];

export interface StatementTimer {
  plugin: KyselyPlugin;
  /** Forget what was timed so far (the warm-up). */
  reset(): void;
  /** The statements by total time, per operation of `ops`. */
  perOp(ops: number): StatementTimes;
}

export function statementTimer(): StatementTimer {
  const started = new WeakMap<object, { key: string; at: number }>();
  let totals = new Map<string, { ms: number; n: number }>();
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
      started.set(queryId, { key: statementKey(node), at: performance.now() });
      return node;
    },
    async transformResult({ result, queryId }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const start = started.get(queryId);
      if (start) {
        const total = totals.get(start.key) ?? { ms: 0, n: 0 };
        total.ms += performance.now() - start.at;
        total.n += 1;
        totals.set(start.key, total);
      }
      return result;
    },
  };
  return {
    plugin,
    reset: () => {
      totals = new Map();
    },
    perOp: (ops) =>
      [...totals.entries()]
        .map(([key, t]) => ({ key, msPerOp: t.ms / Math.max(ops, 1), perOp: t.n / Math.max(ops, 1) }))
        .sort((a, b) => b.msPerOp - a.msPerOp),
  };
}

function statementKey(node: RootOperationNode): string {
  const table = (n: unknown): string => {
    const name = (n as { table?: { identifier?: { name?: string } } } | undefined)?.table?.identifier?.name;
    return name ?? '?';
  };
  switch (node.kind) {
    case 'SelectQueryNode':
      return `select ${table(node.from?.froms[0])}`;
    case 'InsertQueryNode':
      return `insert ${table(node.into)}`;
    case 'UpdateQueryNode':
      return `update ${table(node.table)}`;
    case 'DeleteQueryNode':
      return `delete ${table(node.from.froms[0])}`;
    case 'RawNode':
      return `sql ${node.sqlFragments.join('$').replace(/\s+/g, ' ').trim().slice(0, 48)}`;
    default:
      return node.kind;
  }
}
