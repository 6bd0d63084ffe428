// The hash routes: `#/screen/<id>?query` to the screen module that renders it.

// Each screen is a module exporting `async function render(root, params)`, loaded when first
// visited: a screen that fails to load does not take the others down.
export const ROUTES = [
  { screen: 'overview', module: './screens/overview.js', title: 'Overview' },
  { screen: 'providers', module: './providers/index.js', title: 'Providers' },
  { screen: 'messages', module: './screens/messages.js', title: 'Messages' },
  { screen: 'messages', withId: true, module: './screens/message.js', title: 'Message' },
  { screen: 'consent', module: './screens/consent.js', title: 'Consent' },
  { screen: 'routing', module: './screens/routing.js', title: 'Routing' },
  { screen: 'inbound', module: './screens/inbound.js', title: 'Inbound' },
  { screen: 'dead-letters', module: './screens/dead-letters.js', title: 'Dead letters' },
];
export const HOME = '#/overview';

/**
 * The route of a hash: `#/messages/abc?x=1` → the messages route with params
 * `{id: 'abc', path: ['abc'], query: URLSearchParams}`. Unknown screens answer null.
 */
export function parseHash(hash) {
  const text = hash.replace(/^#\/?/, '');
  const [pathText, queryText = ''] = text.split(/\?(.*)/s, 2);
  const parts = pathText.split('/').filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  const [screen, ...path] = parts;
  const query = new URLSearchParams(queryText);
  // The providers screen owns every path below it (`#/providers/<id>`...); messages has a detail.
  const route = ROUTES.find((r) => r.screen === screen && (screen === 'providers' || Boolean(r.withId) === path.length > 0));
  if (!route) return null;
  return { route, params: { id: path[0], path, query } };
}
