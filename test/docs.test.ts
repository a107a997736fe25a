// The docs a reader can follow: every relative link in README.md and docs/ resolves to a file in
// the repository (and its #anchor to a heading there), and no file cites notes that are not in the
// repository.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootDir } from './helpers/paths.js';

const trackedFiles = execFileSync('git', ['ls-files'], { cwd: rootDir, encoding: 'utf8' }).split('\n').filter(Boolean);
const markdownFiles = trackedFiles.filter((file) => file === 'README.md' || (file.startsWith('docs/') && file.endsWith('.md')));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const text = (match[1] ?? '').replace(/`/g, '').trim().toLowerCase();
    anchors.add(text.replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return anchors;
}

function linksOf(markdown: string): string[] {
  // Inline links and images, outside code spans and fenced blocks.
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] ?? '');
}

describe('docs', () => {
  it('has a README and docs pages', () => {
    expect(markdownFiles).toContain('README.md');
    expect(markdownFiles.length).toBeGreaterThan(3);
  });

  for (const file of markdownFiles) {
    it(`${file}: every relative link resolves`, () => {
      const text = readFileSync(path.join(rootDir, file), 'utf8');
      for (const link of linksOf(text)) {
        if (/^[a-z]+:/i.test(link)) continue;
        const [target = '', anchor] = link.split('#');
        const resolved = target === '' ? path.join(rootDir, file) : path.resolve(path.dirname(path.join(rootDir, file)), decodeURIComponent(target));
        expect(existsSync(resolved), `${file} links to ${link}`).toBe(true);
        if (anchor && resolved.endsWith('.md')) {
          expect(anchorsOf(readFileSync(resolved, 'utf8')), `${file} links to ${link}`).toContain(anchor);
        }
      }
    });
  }

  it('cites no notes outside the repository', () => {
    const cited = /\.\.\/shared\/|PLATFORM-FACTS|DESIGN\.md|STYLE\.md|DESIGN "/;
    const offenders = trackedFiles
      .filter((file) => /\.(ts|md|yml|yaml|sql|json|example)$|^\.ci\//.test(file) && file !== 'test/docs.test.ts' && existsSync(path.join(rootDir, file)))
      .filter((file) => cited.test(readFileSync(path.join(rootDir, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
