/**
 * The `slipway` CLI: serve (default) | migrate | token | print-schema.
 * Built: `node dist/main.js <command>` (npm start, `npx slipway`); from sources:
 * `node --conditions=@slipway/source --import tsx src/main.ts <command>` (npm run dev / npm run cli).
 */
import 'reflect-metadata';
import { isSlipwayError } from '@slipway/core';
import { loadConfig } from './config.js';

const HELP = `usage: slipway [command]

  serve                 start the GraphQL server (default)
  migrate               run database migrations and exit
  token --user <id> [--role admin|user] [--expires 30d]
                        print a bearer token signed with the configured secret
  print-schema          write packages/server/schema.graphql

Configuration comes from environment variables: see docs/configuration.md.
`;

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  // Each command loads only what it needs: `serve` loads the GraphQL side while PGlite opens.
  switch (command) {
    case 'serve':
      return (await import('./cli/serve.js')).serve(loadConfig());
    case 'migrate':
      return (await import('./cli/migrate.js')).migrate(loadConfig());
    case 'token':
      return (await import('./cli/token.js')).token(rest);
    case 'print-schema':
      return (await import('./cli/print-schema.js')).printSchemaFile();
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      process.stderr.write(`slipway: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Expected failures (bad config, locked data dir, bad arguments) print one line; others the stack.
  const message = isSlipwayError(error) || isArgError(error) ? (error as Error).message : String(error);
  const detail = isSlipwayError(error) || isArgError(error) ? '' : `\n${(error as Error)?.stack ?? ''}`;
  process.stderr.write(`slipway: ${message}${detail}\n`);
  process.exit(1);
});

const isArgError = (error: unknown): boolean =>
  typeof (error as { code?: unknown })?.code === 'string' &&
  (error as { code: string }).code.startsWith('ERR_PARSE_ARGS');
