/** The actor whose worker the restart benchmark kills. */
import { defineActor } from '@synod/actors';

export const Victim = defineActor<{ n: number }, { type: 'get' } | { type: 'exit' }>({
  module: import.meta.url,
  init: () => ({ n: 0 }),
  receive(state, msg, ctx) {
    if (msg.type === 'exit') process.exit(1);
    ctx.reply(state.n++);
  },
});
