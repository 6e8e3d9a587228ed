import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, Html, html, raw } from '../../src/dashboard/html.js';

describe('html template tag', () => {
  it('escapes interpolated text, attributes included', () => {
    const payload = `<script>alert("x")</script>&'`;
    const out = html`<p title="${payload}">${payload}</p>`.value;
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
  });

  it('keeps nested templates and raw markup as markup, and renders lists', () => {
    const items = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${raw('<hr>')}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul><hr>');
  });

  it('renders nothing for null, undefined and false, and numbers as text', () => {
    expect(html`[${null}${undefined}${false}${0}${true}]`.value).toBe('[0true]');
  });

  it('never lets a tag or an attribute quote through, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeHtml(s);
        expect(out).not.toMatch(/[<>"']/);
        // Decoding the five entities gives the text back.
        const back = out
          .replaceAll('&lt;', '<')
          .replaceAll('&gt;', '>')
          .replaceAll('&quot;', '"')
          .replaceAll('&#39;', "'")
          .replaceAll('&amp;', '&');
        expect(back).toBe(s);
      }),
    );
  });

  it('marks template output as Html', () => {
    expect(html`x`).toBeInstanceOf(Html);
    expect(String(html`<b>${'<'}</b>`)).toBe('<b>&lt;</b>');
  });
});
