import { describe, expect, it } from 'vitest';
import { InstanceRoster } from '../../server/instances/InstanceRoster';

describe('the other instances of a region', () => {
  it('takes one silent for longer than the timeout for gone, and welcomes it back', () => {
    const roster = new InstanceRoster(1000);
    roster.busUp(0);
    roster.heard('a', 100);
    roster.heard('b', 900);
    expect(roster.expire(1050)).toEqual([]);
    expect(roster.expire(1200)).toEqual(['a']);
    expect(roster.alive()).toEqual(['b']);
    expect(roster.heard('a', 1300)).toBe(true); // back: its presence is asked for again
    expect(roster.heard('a', 1400)).toBe(false);
  });

  it('says nothing about silence while our own bus was down, or not up for long', () => {
    const roster = new InstanceRoster(1000);
    roster.heard('a', 0);
    expect(roster.expire(5000)).toEqual([]); // never up
    roster.busUp(5000);
    expect(roster.expire(5500)).toEqual([]); // up for less than the timeout
    roster.busDown();
    expect(roster.expire(9000)).toEqual([]);
    roster.busUp(9000);
    expect(roster.expire(10_500)).toEqual(['a']);
  });

  it('forgets one that says it is leaving, without expecting it back', () => {
    const roster = new InstanceRoster(1000);
    roster.heard('a', 0);
    expect(roster.left('a')).toBe(true);
    expect(roster.left('a')).toBe(false);
    expect(roster.heard('a', 10)).toBe(false);
  });
});
