/** Every `synod` subcommand, in the order `synod help` lists them. */
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { checkCommand } from './check.js';

export const commands: readonly Command[] = [benchCommand, checkCommand];
