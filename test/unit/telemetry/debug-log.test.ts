/** SWITCHYARD_TRACE / SWITCHYARD_VERBOSITY parsing and the line format of the debug log. */
import { describe, expect, it } from 'vitest';
import { createChannelLog, parseDebugLogSettings } from '../../../src/telemetry/debug-log';

describe('debug log settings', () => {
  it('is off without either variable (no logger, nothing formatted)', () => {
    expect(parseDebugLogSettings({})).toBeUndefined();
    expect(parseDebugLogSettings({ SWITCHYARD_TRACE: '' })).toBeUndefined();
    expect(createChannelLog(1, 't', { settings: undefined })).toBeUndefined();
  });

  it('enables the listed categories, all, and all but some', () => {
    expect([...parseDebugLogSettings({ SWITCHYARD_TRACE: 'retry, Balancer' })!.categories].sort()).toEqual(['balancer', 'retry']);
    expect(parseDebugLogSettings({ SWITCHYARD_TRACE: 'all' })!.categories.size).toBe(6);
    expect([...parseDebugLogSettings({ SWITCHYARD_TRACE: 'all,-call,-transport' })!.categories].sort()).toEqual(
      ['balancer', 'resolver', 'retry', 'subchannel'],
    );
    expect(parseDebugLogSettings({ SWITCHYARD_TRACE: 'nonsense' })).toBeUndefined();
  });

  it('filters by verbosity; a verbosity alone logs every category at that level', () => {
    const lines: string[] = [];
    const settings = parseDebugLogSettings({ SWITCHYARD_VERBOSITY: 'error' })!;
    expect(settings.categories.size).toBe(6);
    const log = createChannelLog(7, 'dns:///x:1', { settings, sink: (line) => lines.push(line) })!;
    log.write('resolver', 'I', 'not shown');
    log.write('resolver', 'E', 'lookup failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z E switchyard\[7 dns:\/\/\/x:1\] resolver: lookup failed\n$/);
  });

  it('guards each category with a boolean', () => {
    const log = createChannelLog(1, 't', { settings: parseDebugLogSettings({ SWITCHYARD_TRACE: 'retry' })!, sink: () => {} })!;
    expect([log.retry, log.call, log.resolver, log.balancer, log.subchannel, log.transport]).toEqual([true, false, false, false, false, false]);
  });
});
