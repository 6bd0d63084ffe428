// The console's shell: shows the screen of the address's hash (see router.js), keeps the nav current, shows the notices.

import { onProblem } from './api.js';
import { HOME, parseHash } from './router.js';
import { clearNotices, h, notify } from './ui.js';

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
