// The hub's one module: authjar's client does cookies, CSRF and refresh;
// this file only draws the page. /config.json says where the API is.
const config = await (await fetch('config.json')).json();
const api = config.api.replace(/\/$/, '');
const auth = await import(`${api}/auth/client.js`);

const $ = (id) => document.getElementById(id);
const say = (text) => { $('status').textContent = text; };

function show(loggedIn) {
  $('logged-in').classList.toggle('hidden', !loggedIn);
  $('logged-out').classList.toggle('hidden', loggedIn);
}

async function loadBookings() {
  const res = await auth.authFetch(`${api}/api/bookings`);
  if (res.status === 401) { show(false); return; }
  const list = await res.json();
  const ul = $('bookings');
  ul.replaceChildren(...list.map((b) => {
    const li = document.createElement('li');
    li.dataset.id = b.id;
    li.textContent = `${b.cat} with ${b.therapist} `;
    const cancel = document.createElement('button');
    cancel.textContent = 'Cancel';
    cancel.className = 'cancel';
    cancel.onclick = async () => {
      const r = await auth.authFetch(`${api}/api/bookings/${b.id}`, { method: 'DELETE' });
      say(r.ok ? 'Booking cancelled.' : `Could not cancel (${r.status}).`);
      await loadBookings();
    };
    li.append(cancel);
    return li;
  }));
}

async function render() {
  const me = await auth.me();
  show(Boolean(me));
  if (!me) return;
  $('whoami').textContent = me.user.name || me.user.email;
  await loadBookings();
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function on(formId, action) {
  $(formId).addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      say('');
      await action(formData(e.target));
      e.target.reset();
      await render();
    } catch (err) {
      say(err.message);
    }
  });
}

on('signup-form', (d) => auth.register({ email: d.email, password: d.password, name: d.name || undefined }));
on('login-form', (d) => auth.login({ email: d.email, password: d.password }));
on('booking-form', async (d) => {
  const res = await auth.authFetch(`${api}/api/bookings`, { method: 'POST', body: JSON.stringify(d) });
  if (!res.ok) throw new Error((await res.json()).message);
});
$('logout').onclick = async () => { await auth.logout(); await render(); };

async function socialLogin() {
  const list = await auth.providers();
  $('social').replaceChildren(...list.map((p) => {
    const a = document.createElement('a');
    a.href = p.start_url;
    a.textContent = `Log in with ${p.name}`;
    a.className = 'social-login';
    a.onclick = async (e) => {
      e.preventDefault();
      location.assign(await auth.loginUrl(p, `${location.origin}/`));
    };
    return a;
  }));
}

auth.configure({ apiOrigins: [api] });
// A social login that came back here is finished before anything else loads.
try {
  await auth.completeOAuthLogin();
} catch (err) {
  say(err.message);
}
auth.onAuthChange((event) => { if (event !== 'refresh') render(); });
window.hub = { auth, api, render, loadBookings };
await socialLogin();
await render();
document.body.dataset.ready = 'true';
