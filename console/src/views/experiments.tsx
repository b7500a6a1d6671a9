// Experiments: filled in once the server's /api/v1/experiments exists.
import { get } from '../api';
import { ErrorText, useLoad } from '../ui';

export function Experiments() {
  const r = useLoad(() => get<unknown>('/api/v1/experiments'), []);
  return (
    <section aria-labelledby="h-exp">
      <h1 id="h-exp">Experiments</h1>
      <ErrorText text={r.error} />
    </section>
  );
}

export function ExperimentPage({ id }: { id: string }) {
  return (
    <section>
      <h1>Experiment {id}</h1>
    </section>
  );
}
