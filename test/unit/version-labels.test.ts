import { EMPTY_AGGREGATE, mergeAll, type Aggregate } from '../../src/aggregate/moments.js';
import { CounterVersionLabels, limitVersions } from '../../src/expose/prometheus/version-labels.js';
import { OTHER_VERSIONS } from '../../src/validate/limits.js';

const aggregate = (predictions: number, labelled = 0, actualMean = 0): Aggregate => ({
  ...EMPTY_AGGREGATE,
  predictions,
  confidenceSum: predictions / 2,
  labelled,
  errorAbsSum: labelled * 2,
  errorSqSum: labelled * 5,
  actualMean,
  actualM2: labelled * 3,
});

describe('limitVersions (src/expose/prometheus/version-labels.ts)', () => {
  // two windows: the last one is the widest
  const hour = new Map([
    ['all', aggregate(6, 2, 4)],
    ['big', aggregate(3, 1, 5)],
    ['small-1', aggregate(1, 1, 3)],
  ]);
  const week = new Map([
    ['all', aggregate(40, 20, 4)],
    ['big', aggregate(20, 10, 5)],
    ['mid', aggregate(10, 5, 2)],
    ['small-1', aggregate(5, 3, 3)],
    ['small-2', aggregate(5, 2, 6)],
    ['gone', aggregate(0)],
  ]);

  it('keeps the fleet and the versions with the most predictions in the widest window; merges the rest into other', () => {
    const [limitedHour, limitedWeek] = limitVersions([hour, week], 2);
    expect([...limitedWeek!.keys()]).toEqual(['all', 'big', 'mid', OTHER_VERSIONS]);
    expect(limitedWeek!.get(OTHER_VERSIONS)).toEqual(mergeAll([week.get('small-1')!, week.get('small-2')!]));
    expect(limitedWeek!.get('all')).toBe(week.get('all'));
    // the same versions in every window, from that window's own aggregates
    expect([...limitedHour!.keys()]).toEqual(['all', 'big', OTHER_VERSIONS]);
    expect(limitedHour!.get(OTHER_VERSIONS)).toEqual(mergeAll([hour.get('small-1')!]));
  });

  it('changes nothing but the gone versions when under the limit, and breaks ties by name', () => {
    const [, limitedWeek] = limitVersions([hour, week], 50);
    expect([...limitedWeek!.keys()]).toEqual(['all', 'big', 'mid', 'small-1', 'small-2']);
    const [tied] = limitVersions([new Map([['b', aggregate(5)], ['a', aggregate(5)], ['c', aggregate(5)]])], 2);
    expect([...tied!.keys()]).toEqual(['a', 'b', OTHER_VERSIONS]);
  });
});

describe('CounterVersionLabels', () => {
  it('gives the first versions stored live their own label, and later ones other, for good', () => {
    const labels = new CounterVersionLabels(2);
    expect(['v1', 'v2', 'v3', 'v1', 'v4', 'v2'].map((v) => labels.labelOf(v, true))).toEqual(['v1', 'v2', OTHER_VERSIONS, 'v1', OTHER_VERSIONS, 'v2']);
  });

  it('history takes a label only while fewer than half are taken; live versions get the rest', () => {
    const labels = new CounterVersionLabels(4);
    expect(['old-1', 'old-2', 'old-3', 'old-4'].map((v) => labels.labelOf(v, false))).toEqual(['old-1', 'old-2', OTHER_VERSIONS, OTHER_VERSIONS]);
    expect(['live-1', 'live-2', 'live-3'].map((v) => labels.labelOf(v, true))).toEqual(['live-1', 'live-2', OTHER_VERSIONS]);
    expect(labels.labelOf('old-1', true)).toBe('old-1');
    expect(labels.labelOf('live-1', false)).toBe('live-1');
  });

  it('history never holds more than half the places, also when the limit is odd', () => {
    const labels = new CounterVersionLabels(5);
    expect(['old-1', 'old-2', 'old-3'].map((v) => labels.labelOf(v, false))).toEqual(['old-1', 'old-2', OTHER_VERSIONS]);
    expect(['live-1', 'live-2', 'live-3', 'live-4'].map((v) => labels.labelOf(v, true))).toEqual(['live-1', 'live-2', 'live-3', OTHER_VERSIONS]);
    // A single place goes to live traffic: an import alone must not take it.
    expect(new CounterVersionLabels(1).labelOf('old-1', false)).toBe(OTHER_VERSIONS);
  });
});
