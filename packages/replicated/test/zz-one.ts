import { formatFailure, runCampaign } from '@synod/actors/sim';
import { mapScenario } from '@synod/replicated/scenarios';
const r = await runCampaign({ scenario: mapScenario, seeds: [Number(process.argv[2])], workers: 0 });
if (r.firstFailure) console.log(formatFailure(r.firstFailure)); else console.log('passed');
