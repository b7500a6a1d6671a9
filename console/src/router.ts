// Routes live in the URL fragment (#/hosts/web-1): the server serves one
// page, and a host name in a route is percent-encoded.
export type Route =
  | { view: 'pipelines'; arg: '' }
  | { view: 'host' | 'template' | 'experiment'; arg: string }
  | { view: 'catalog' | 'experiments' | 'fleet'; arg: '' };

export function route(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const arg = (() => {
    try {
      return decodeURIComponent(parts.slice(1).join('/'));
    } catch {
      return '';
    }
  })();
  switch (parts[0]) {
    case 'hosts':
      return arg ? { view: 'host', arg } : { view: 'pipelines', arg: '' };
    case 'catalog':
      return arg ? { view: 'template', arg } : { view: 'catalog', arg: '' };
    case 'experiments':
      return arg ? { view: 'experiment', arg } : { view: 'experiments', arg: '' };
    case 'fleet':
      return { view: 'fleet', arg: '' };
    default:
      return { view: 'pipelines', arg: '' };
  }
}
