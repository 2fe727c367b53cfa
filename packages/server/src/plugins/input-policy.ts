/**
 * The core's input policy (NUL and unpaired surrogates, string length, JSON depth: see
 * @slipway/core `inputProblem`) applied at the edge, to every operation's variables and to
 * every literal in its document, before any resolver runs: a hostile value is a typed
 * VALIDATION_FAILED naming the field, never a PostgreSQL error or a stack overflow deep in a
 * resolver, and no credit moves.
 */
import { type InputProblem, inputProblem, LIMITS, stringProblem } from '@slipway/core';
import { type ASTNode, type DirectiveNode, type DocumentNode, Kind, type SelectionSetNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export function inputPolicyPlugin(): Plugin {
  const check = (document: DocumentNode, variables: unknown): InputProblem | undefined => {
    const problem = variables ? inputProblem(variables, '') : undefined;
    // Variables are named by their path from the variable (`input.metadata.a`), like graphql-js does.
    return problem ? { ...problem, field: problem.field.replace(/^\./, '') || 'variables' } : literalProblem(document);
  };
  const refuse = (problem: InputProblem) => ({
    errors: [
      createGraphQLError(`${problem.field}: ${problem.message}`, {
        extensions: { code: 'VALIDATION_FAILED', field: problem.field },
      }),
    ],
  });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const problem = check(args.document, args.variableValues);
      if (problem) setResultAndStopExecution(refuse(problem));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const problem = check(args.document, args.variableValues);
      if (problem) setResultAndStopExecution(refuse(problem));
    },
  };
}

/**
 * Walk the document's argument literals (of fields and directives) and variable defaults
 * iteratively: strings against the policy, objects/lists by depth.
 */
function literalProblem(document: DocumentNode): InputProblem | undefined {
  const stack: Array<{ node: ASTNode; path: string; depth: number }> = [];
  const push = (node: ASTNode, path: string, depth: number): void => {
    stack.push({ node, path, depth });
  };
  for (const def of document.definitions) push(def, '', 0);
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, path, depth } = item;
    switch (node.kind) {
      case Kind.STRING: {
        const problem = stringProblem(node.value);
        if (problem) return { field: path, message: problem };
        break;
      }
      case Kind.OBJECT:
      case Kind.LIST:
        if (depth >= LIMITS.input.jsonMaxDepth) {
          return { field: path, message: `nests deeper than ${LIMITS.input.jsonMaxDepth} levels` };
        }
        if (node.kind === Kind.OBJECT) for (const f of node.fields) push(f.value, `${path}.${f.name.value}`, depth + 1);
        else for (const [i, v] of node.values.entries()) push(v, `${path}.${i}`, depth + 1);
        break;
      case Kind.ARGUMENT:
        push(node.value, path ? `${path}.${node.name.value}` : node.name.value, depth);
        break;
      case Kind.FIELD:
      case Kind.DIRECTIVE:
        for (const a of node.arguments ?? []) push(a, '', 0);
        if (node.kind === Kind.FIELD) pushSelections(node, push);
        break;
      case Kind.VARIABLE_DEFINITION:
        // A default is used when the variable is absent, so it never shows in the variables checked above.
        if (node.defaultValue) push(node.defaultValue, node.variable.name.value, 0);
        break;
      case Kind.OPERATION_DEFINITION:
        for (const v of node.variableDefinitions ?? []) push(v, '', 0);
        pushSelections(node, push);
        break;
      case Kind.FRAGMENT_DEFINITION:
      case Kind.INLINE_FRAGMENT:
      case Kind.FRAGMENT_SPREAD:
        pushSelections(node, push);
        break;
      default:
        break;
    }
  }
  return undefined;
}

/** A node's directives and selections (each selection brings its own directives). */
function pushSelections(
  node: { directives?: readonly DirectiveNode[] | undefined; selectionSet?: SelectionSetNode | undefined },
  push: (node: ASTNode, path: string, depth: number) => void,
): void {
  for (const d of node.directives ?? []) push(d, '', 0);
  for (const s of node.selectionSet?.selections ?? []) push(s, '', 0);
}
