// The console's shell: the hash router (`#/screen/<id>?query`), the nav, and the notices.

import { onProblem } from './api.js';
import { clearNotices, h, notify } from './ui.js';

// Each screen is a module exporting `async function render(root, params)`, loaded when first
// visited: a screen that fails to load does not take the others down.
const ROUTES = [
  { screen: 'overview', module: './screens/overview.js', title: 'Overview' },
  { screen: 'providers', module: './providers/index.js', title: 'Providers' },
  { screen: 'messages', module: './screens/messages.js', title: 'Messages' },
  { screen: 'messages', withId: true, module: './screens/message.js', title: 'Message' },
  { screen: 'consent', module: './screens/consent.js', title: 'Consent' },
  { screen: 'inbound', module: './screens/inbound.js', title: 'Inbound' },
  { screen: 'dead-letters', module: './screens/dead-letters.js', title: 'Dead letters' },
];
const HOME = '#/overview';

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

let rendering = 0;

async function show() {
  const parsed = parseHash(location.hash);
  if (!parsed) {
    location.replace(HOME);
    return;
  }
  const { route, params } = parsed;
  const ticket = ++rendering;
  markCurrent(route.screen);
  closeMenu();
  clearNotices();
  document.title = `${route.title} · SMS Bridge console`;
  const main = document.getElementById('main');
  const root = h('div', { class: `screen screen-${route.screen}` }, h('p', { class: 'loading' }, 'Loading…'));
  main.replaceChildren(root);
  let module;
  try {
    module = await import(route.module);
  } catch (error) {
    root.replaceChildren(h('p', { class: 'problem' }, `The ${route.title} screen could not be loaded: ${error.message}`));
    return;
  }
  try {
    await module.render(root, params);
  } catch (error) {
    // A screen's own bug: said plainly rather than left on "Loading…".
    console.error(error);
    if (ticket === rendering) {
      root.append(h('p', { class: 'problem' }, `Something went wrong on this screen: ${error.message}`));
    }
  }
  if (ticket === rendering && focusOnRender) {
    (root.querySelector('h1') ?? main).focus({ preventScroll: false });
  }
}

function markCurrent(screen) {
  for (const link of document.querySelectorAll('#nav a[data-screen]')) {
    if (link.dataset.screen === screen) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

// ---------------------------------------------------------------- the menu at 390 px

function closeMenu() {
  const toggle = document.querySelector('.nav-toggle');
  toggle?.setAttribute('aria-expanded', 'false');
  document.getElementById('nav')?.classList.remove('open');
}

function setUpMenu() {
  // The skip link moves the focus itself: following `#main` would change the route.
  document.querySelector('.skip-link').addEventListener('click', (event) => {
    event.preventDefault();
    const main = document.getElementById('main');
    (main.querySelector('h1') ?? main).focus();
  });
  const toggle = document.querySelector('.nav-toggle');
  const nav = document.getElementById('nav');
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
    if (open) nav.querySelector('a')?.focus();
  });
  nav.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && nav.classList.contains('open')) {
      closeMenu();
      toggle.focus();
    }
  });
}

// The first render keeps the focus where the browser put it; later ones move it to the heading.
let focusOnRender = false;

function start() {
  setUpMenu();
  onProblem((problem) => notify(problem));
  window.addEventListener('hashchange', () => {
    focusOnRender = true;
    show();
  });
  if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', HOME);
  show();
}

start();
