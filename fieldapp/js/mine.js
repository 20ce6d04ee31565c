// 我的: who the phone is signed in as, the language, sign out.
import { h } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { me, signOut } from './session.js';

export function mountMe(root) {
  const who = me() || {};
  const rows = [
    [t('me_name'), who.role === 'unit' && currentLang() === 'en' && who.name_en ? who.name_en : who.name],
    [t('me_role'), who.role ? t(`role_${who.role}`) : ''],
    [t('me_scope'), who.scope],
    [t('me_township'), who.township],
    [t('me_cells'), (who.cells || []).join(', ')],
  ].filter(([, v]) => v);
  root.append(h('div', { class: 'screen' },
    h('h2', {}, t('me_title')),
    h('dl', { class: 'card facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('section', { class: 'card' },
      h('div', { class: 'label' }, t('language')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: currentLang() === 'zh' ? 'btn primary' : 'btn', onclick: () => setLang('zh') }, '中文'),
        h('button', { type: 'button', class: currentLang() === 'en' ? 'btn primary' : 'btn', onclick: () => setLang('en') }, 'English'))),
    h('button', {
      type: 'button', class: 'btn danger big', testid: 'sign-out',
      onclick: () => { if (confirm(t('confirm_sign_out'))) signOut(); },
    }, t('sign_out'))));
  return () => {};
}
