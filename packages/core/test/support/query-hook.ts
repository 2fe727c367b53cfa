/**
 * A Kysely plugin that runs a step right after one chosen query has answered (its connection
 * already given back), to land another replica's commit in a precise window of a flow.
 */
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

export class QueryHook implements KyselyPlugin {
  #armed: { match: (node: RootOperationNode) => boolean; then: () => Promise<void> } | null = null;
  readonly #hit = new WeakMap<object, () => Promise<void>>();
  fired = 0;

  /** Run `then` after the next query `match` picks (once). */
  arm(match: (node: RootOperationNode) => boolean, then: () => Promise<void>): void {
    this.#armed = { match, then };
  }

  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    const armed = this.#armed;
    if (armed?.match(node)) {
      this.#armed = null;
      this.#hit.set(queryId, armed.then);
    }
    return node;
  }

  async transformResult({ result, queryId }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const then = this.#hit.get(queryId);
    if (then) {
      this.#hit.delete(queryId);
      this.fired += 1;
      await then();
    }
    return result;
  }
}

/** A select whose text (as a node tree) mentions every one of `words`. */
export const selectMentioning =
  (...words: string[]) =>
  (node: RootOperationNode): boolean => {
    if (node.kind !== 'SelectQueryNode') return false;
    const text = JSON.stringify(node);
    return words.every((w) => text.includes(JSON.stringify(w)));
  };
