// The hub's one module: authjar's client does cookies, CSRF and refresh;
// this file only draws the page. /config.json says where the API is.
const config = await (await fetch('config.json')).json();
const api = config.api.replace(/\/$/, '');

const $ = (id) => document.getElementById(id);
const say = (text) => { $('status').textContent = text; };

// What stops the page from working at all (authjar unreachable, or this
// page's origin not allowed), shown on the page instead of a blank one.
function showProblem(err) {
  $('problem-text').textContent = err.message;
  const link = $('problem-debug');
  link.href = err.debugUrl || `${api}/auth/debug?from=${encodeURIComponent(location.origin)}`;
  $('problem').classList.remove('hidden');
  document.body.dataset.problem = err.code || 'unreachable';
  document.body.dataset.ready = 'true';
}

let auth;
try {
  auth = await import(`${api}/auth/client.js`);
} catch (err) {
  showProblem(new Error(`authjar's client could not be loaded from ${api}/auth/client.js (${err.message}): is authjar running at ${api}?`));
  throw err;
}

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

async function loadSessions(current) {
  const res = await auth.authFetch(`${api}/auth/sessions`);
  if (!res.ok) return;
  const { sessions } = await res.json();
  $('sessions').replaceChildren(...sessions.map((s) => {
    const li = document.createElement('li');
    li.dataset.id = s.id;
    li.textContent = `${s.user_agent || 'unknown browser'} since ${s.created_at}${s.id === current ? ' (this one)' : ''} `;
    if (s.id !== current) {
      const revoke = document.createElement('button');
      revoke.textContent = 'Log out there';
      revoke.className = 'revoke';
      revoke.onclick = async () => {
        const r = await auth.authFetch(`${api}/auth/sessions/${s.id}`, { method: 'DELETE' });
        say(r.ok ? 'That session is logged out.' : `Could not log it out (${r.status}).`);
        await loadSessions(current);
      };
      li.append(revoke);
    }
    return li;
  }));
}

async function render() {
  const me = await auth.me();
  show(Boolean(me));
  if (!me) return;
  $('whoami').textContent = me.user.name || me.user.email;
  $('verified').textContent = me.user.email_verified
    ? `${me.user.email} is confirmed.`
    : `Check your inbox: we sent a link to confirm ${me.user.email}.`;
  await loadBookings();
  await loadSessions(me.session.id);
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

on('signup-form', async (d) => {
  const user = await auth.register({ email: d.email, password: d.password, name: d.name || undefined });
  if (!user.email_verified) say(`Check your inbox: we sent a link to confirm ${user.email}.`);
});
on('forgot-form', async (d) => {
  await auth.forgotPassword(d.email);
  say(`If ${d.email} has an account, a reset link is in its inbox.`);
});
on('resend-form', async (d) => {
  await auth.requestEmailVerification(d.email);
  say(`If ${d.email} waits for confirmation, a new link is in its inbox.`);
});
on('change-form', async (d) => {
  await auth.changePassword({ currentPassword: d.current || undefined, newPassword: d.next });
  say('Password changed. Your other sessions were logged out.');
});
on('delete-form', async (d) => {
  await auth.deleteAccount({ password: d.password || undefined });
  say('Your account is deleted.');
});
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
  if (err.code === 'page_origin_not_allowed') showProblem(err); else say(err.message);
}
// A link from an e-mail: confirm the address, or choose a new password.
// (Opened in a new tab it loads the page; pasted into this one it changes the fragment.)
let resetToken = null;
$('reset-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await auth.resetPassword(resetToken, formData(e.target).password);
    $('reset').classList.add('hidden');
    say('Password changed. Log in with the new one.');
    await render();
  } catch (err) {
    say(err.message);
  }
});
async function emailLink() {
  const link = auth.emailLink();
  if (link?.action === 'verify_email') {
    try {
      const user = await auth.confirmEmail(link.token);
      say(`Thanks, ${user.email} is confirmed.`);
      await render();
    } catch (err) {
      say(err.message);
    }
  } else if (link?.action === 'reset_password') {
    resetToken = link.token;
    $('reset').classList.remove('hidden');
  }
}
window.addEventListener('hashchange', emailLink);
await emailLink();
auth.onAuthChange((event) => { if (event !== 'refresh') render(); });
window.hub = { auth, api, render, loadBookings };
try {
  await socialLogin();
  await render();
  document.body.dataset.ready = 'true';
} catch (err) {
  if (err.code !== 'page_origin_not_allowed') say(err.message);
  showProblem(err);
}
