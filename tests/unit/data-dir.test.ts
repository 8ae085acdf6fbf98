import { describe, expect, it } from 'vitest';
import { defaultDataDir, resolveDataDir } from '../../protocol/data-dir.js';

describe('resolveDataDir', () => {
  const base = { env: {}, platform: 'linux', home: '/home/ada' } as const;

  it('prefers --data-dir over the environment and the default', () => {
    expect(resolveDataDir({ ...base, flag: '/srv/oh', env: { OFFHOURS_DATA_DIR: '/env/oh' } })).toEqual({ path: '/srv/oh', source: 'flag' });
  });
  it('uses OFFHOURS_DATA_DIR when no flag is given', () => {
    expect(resolveDataDir({ ...base, env: { OFFHOURS_DATA_DIR: '/env/oh' } })).toEqual({ path: '/env/oh', source: 'env' });
  });
  it('ignores an empty OFFHOURS_DATA_DIR', () => {
    expect(resolveDataDir({ ...base, env: { OFFHOURS_DATA_DIR: '' } }).source).toBe('default');
  });
  it('expands ~ and refuses relative paths', () => {
    expect(resolveDataDir({ ...base, flag: '~/oh' }).path).toBe('/home/ada/oh');
    expect(() => resolveDataDir({ ...base, flag: 'data' })).toThrow(/absolute/);
    expect(() => resolveDataDir({ ...base, env: { OFFHOURS_DATA_DIR: './x' } })).toThrow(/OFFHOURS_DATA_DIR must be an absolute path/);
  });
  it('has one default per OS', () => {
    expect(defaultDataDir({ env: {}, platform: 'linux', home: '/home/ada' })).toBe('/home/ada/.local/share/offhours');
    expect(defaultDataDir({ env: { XDG_DATA_HOME: '/data/xdg/' }, platform: 'linux', home: '/home/ada' })).toBe('/data/xdg/offhours');
    expect(defaultDataDir({ env: { XDG_DATA_HOME: 'relative' }, platform: 'linux', home: '/home/ada' })).toBe('/home/ada/.local/share/offhours');
    expect(defaultDataDir({ env: {}, platform: 'darwin', home: '/Users/ada' })).toBe('/Users/ada/Library/Application Support/Offhours');
    expect(defaultDataDir({ env: { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, platform: 'win32', home: 'C:\\Users\\ada' })).toBe(
      'C:\\Users\\ada\\AppData\\Local\\Offhours',
    );
    expect(defaultDataDir({ env: {}, platform: 'win32', home: 'C:\\Users\\ada' })).toBe('C:\\Users\\ada\\AppData\\Local\\Offhours');
  });
  it('accepts Windows absolute flags', () => {
    expect(resolveDataDir({ env: {}, platform: 'win32', home: 'C:\\Users\\ada', flag: 'D:\\Offhours' }).path).toBe('D:\\Offhours');
  });
});
