// The README is the npm page: at most 200 lines, with the two commands for a newcomer on a fresh machine on its
// first screen as CI runs them, and links that lead somewhere. Its code blocks run in guides.test.ts; the links of
// docs/ (the guides' index and the guides) are held to the same bar here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve('.');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const TRAIN = 'bash scripts/setup.sh && npm run train';
const TEST = 'bash scripts/setup.sh && npm run typecheck && npm test';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

/** The anchors of a Markdown file's headings (outside code blocks). */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced && /^#{1,6} /.test(line)) found.add(slug(line.replace(/^#+ /, '')));
  }
  return found;
}

/** The relative links [text](target) of a Markdown file, outside code blocks and code spans. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
}

describe('the README', () => {
  it('is at most 200 lines', () => {
    expect(readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0)).toBeLessThanOrEqual(200);
  });

  it('shows the set-up-and-train and set-up-and-test commands, as CI runs the second, before its first section', () => {
    const firstScreen = readme.slice(0, readme.indexOf('\n## '));
    for (const command of [TRAIN, TEST]) expect(firstScreen).toContain('```sh\n' + command + '\n```');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8').split('\n')).toContain(TEST);
  });

  it('links to the guides, the examples, the API reference and results/', () => {
    for (const target of ['docs/README.md', 'docs/guides/getting-started.md', 'docs/guides/losses.md', 'docs/guides/your-data.md', 'docs/guides/fine-tuning.md', 'docs/examples/regression.ts', 'docs/examples/multilabel.ts', 'docs/examples/finetune.ts']) {
      expect(relativeLinks(readme)).toContain(target);
    }
    expect(readme).toContain('npm run docs');
    expect(relativeLinks(readme).filter((t) => t.startsWith('results/')).length).toBeGreaterThanOrEqual(5);
  });
});

describe('the links of the README and docs/', () => {
  const markdown = ['README.md', 'docs/README.md', ...readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md')).map((f) => `docs/guides/${f}`)];
  it.each(markdown)('%s: every relative link names a file or folder that exists, and a heading there', (file) => {
    const links = relativeLinks(readFileSync(join(root, file), 'utf8'));
    for (const link of links) {
      const [path, anchor] = link.split('#');
      const target = path === '' ? join(root, file) : resolve(root, dirname(file), path);
      expect(existsSync(target), `${file}: ${link} (no ${target})`).toBe(true);
      if (anchor !== undefined && target.endsWith('.md')) expect([...anchors(readFileSync(target, 'utf8'))], `${file}: ${link}`).toContain(anchor);
    }
  });
});
