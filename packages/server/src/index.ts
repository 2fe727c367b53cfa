// @slipway/server public API, for apps that embed the GraphQL server.
import 'reflect-metadata';

export { type App, type CreateAppOptions, createApp } from './app.js';
export { type MintTokenOptions, mintToken, verifyToken } from './auth.js';
export { ENV_VARIABLES, type LogLevel, loadConfig, type ServerConfig } from './config.js';
export { createServerContainer, type ServerContainerOptions, TOKENS } from './container.js';
export type { GraphQLContext } from './context.js';
export { type Listening, listen, type SlipwayYoga } from './http.js';
export { buildSchema, printSchemaSdl } from './schema/index.js';
