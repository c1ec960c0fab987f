import { startWorld, runBench } from '/work/main/backend/evals/injection/runner';
const world = await startWorld();
try {
  const out = await runBench(world, { only: (s) => s.id.includes(process.argv[2]!) });
  for (const r of out.results) console.log(JSON.stringify(r, null, 1).slice(0, 6000));
} finally { await world.close(); }
