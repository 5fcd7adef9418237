// The system-driver probe's remembered answer: asked once, reused while the driver manifests, device nodes, user,
// loader environment and Dawn build stay the same; asked again when any changes, when the cache is damaged, once it
// is forgotten, when asked fresh, and after a probe that gave no answer.
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedProbe, forgetProbe, probeKeyFolders } from '../src/node/vulkanProbe.js';

function setUp() {
  const root = mkdtempSync(join(tmpdir(), 'vulkan-probe-'));
  const icd = join(root, 'icd.d');
  mkdirSync(icd);
  writeFileSync(join(icd, 'lvp_icd.x86_64.json'), '{"ICD": {}}');
  let asked = 0;
  const answer: { hasAdapter: boolean | null } = { hasAdapter: false };
  const probe = () => {
    asked++;
    return answer.hasAdapter;
  };
  const cache = { file: join(root, 'cache', 'vulkan-probe.json'), folders: [icd, join(root, 'not-there')], extra: 'dawn 1' };
  return { root, icd, probe, cache, answer, asked: () => asked };
}

describe('the system-driver probe, remembered', () => {
  it('asks once, then answers from the cache while nothing it depends on changes', () => {
    const t = setUp();
    expect(cachedProbe(t.probe, t.cache)).toBe(false);
    t.answer.hasAdapter = true; // a cached answer is used as it was saved
    expect(cachedProbe(t.probe, t.cache)).toBe(false);
    expect(t.asked()).toBe(1);
    expect(JSON.parse(readFileSync(t.cache.file, 'utf8')).hasAdapter).toBe(false);
  });

  it("asks again when a driver manifest appears, the Dawn build changes, or the loader's environment does", () => {
    const t = setUp();
    cachedProbe(t.probe, t.cache);
    writeFileSync(join(t.icd, 'nvidia_icd.json'), '{"ICD": {}}');
    t.answer.hasAdapter = true;
    expect(cachedProbe(t.probe, t.cache)).toBe(true);
    expect(cachedProbe(t.probe, { ...t.cache, extra: 'dawn 2' })).toBe(true);
    expect(t.asked()).toBe(3);
    const before = process.env.VK_ADD_DRIVER_FILES;
    process.env.VK_ADD_DRIVER_FILES = '/opt/driver.json';
    try {
      cachedProbe(t.probe, { ...t.cache, extra: 'dawn 2' });
    } finally {
      if (before === undefined) delete process.env.VK_ADD_DRIVER_FILES;
      else process.env.VK_ADD_DRIVER_FILES = before;
    }
    expect(t.asked()).toBe(4);
  });

  it('asks again past a damaged cache, and after the answer is forgotten; an unwritable cache only costs the probe', () => {
    const t = setUp();
    cachedProbe(t.probe, t.cache);
    writeFileSync(t.cache.file, '{"key": "trunc');
    expect(cachedProbe(t.probe, t.cache)).toBe(false);
    expect(t.asked()).toBe(2);
    forgetProbe(t.cache);
    cachedProbe(t.probe, t.cache);
    expect(t.asked()).toBe(3);
    const blocked = { ...t.cache, file: join(t.icd, 'lvp_icd.x86_64.json', 'cache.json') }; // under a file
    expect(cachedProbe(t.probe, blocked)).toBe(false);
    expect(cachedProbe(t.probe, blocked)).toBe(false);
    expect(t.asked()).toBe(5);
  });

  it('remembers only a definite answer: a probe that failed counts as no adapter and is asked again; fresh asks whatever is remembered', () => {
    const t = setUp();
    t.answer.hasAdapter = null;
    expect(cachedProbe(t.probe, t.cache)).toBe(false);
    t.answer.hasAdapter = true;
    expect(cachedProbe(t.probe, t.cache)).toBe(true);
    expect(t.asked()).toBe(2);
    t.answer.hasAdapter = false;
    expect(cachedProbe(t.probe, t.cache)).toBe(true);
    expect(cachedProbe(t.probe, { ...t.cache, fresh: true })).toBe(false);
    expect(cachedProbe(t.probe, t.cache)).toBe(false);
    expect(t.asked()).toBe(3);
  });

  it("looks where the Vulkan loader looks: the user's and XDG config and data folders, /usr/local/etc, /etc, and device nodes", () => {
    const saved = { ...process.env };
    try {
      process.env.XDG_CONFIG_HOME = '/home/u/cfg';
      process.env.XDG_CONFIG_DIRS = '/cfg';
      process.env.XDG_DATA_DIRS = '/a:/b';
      process.env.XDG_DATA_HOME = '/home/u/data';
      expect(probeKeyFolders()).toEqual([
        '/home/u/cfg/vulkan/icd.d', '/cfg/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d', '/etc/vulkan/icd.d',
        '/home/u/data/vulkan/icd.d', '/a/vulkan/icd.d', '/b/vulkan/icd.d', '/dev/dri', '/dev',
      ]);
    } finally {
      for (const k of ['XDG_CONFIG_HOME', 'XDG_CONFIG_DIRS', 'XDG_DATA_DIRS', 'XDG_DATA_HOME']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
