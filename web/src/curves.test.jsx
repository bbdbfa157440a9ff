import { describe, expect, it } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { addSong, dropFiles, audioFile, fakeApi, renderApp } from './testing.jsx';
import { clockText, curveProblems, curvesFromApi, curvesToApi, parseClock } from './curves.js';

// Opens "Advanced" the way a user does (a click on its summary) and returns it.
function openAdvanced() {
  const advanced = screen.getByTestId('advanced');
  fireEvent.click(within(advanced).getByText(/Advanced/));
  return advanced;
}

// Adds keyframes to one curve and types each [time, value] into its row.
function setCurve(advanced, label, keys) {
  const curve = within(advanced).getByRole('group', { name: `${label} over time` });
  for (let i = 0; i < keys.length; i += 1) {
    fireEvent.click(within(curve).getByRole('button', { name: `Add a keyframe to ${label.toLowerCase()}` }));
    const name = `keyframe ${i + 1} of ${label.toLowerCase()}`;
    fireEvent.change(within(curve).getByLabelText(new RegExp(`^Time of ${name}`)), { target: { value: keys[i][0] } });
    fireEvent.change(within(curve).getByLabelText(new RegExp(`^Value of ${name}`)), { target: { value: String(keys[i][1]) } });
  }
  return curve;
}

describe('keyframe times and values', () => {
  it('reads times the way --period-curve does and writes them as m:ss', () => {
    expect(parseClock('1:30')).toBe(90);
    expect(parseClock('90')).toBe(90);
    expect(parseClock(' 1:05.5 ')).toBe(65.5);
    expect(parseClock('1:02:05')).toBe(3725);
    for (const bad of ['', '1:60', '1:', 'a:10', '1:2:3:4', '-5', '1.2.3']) expect(parseClock(bad)).toBeNaN();
    expect(clockText(0)).toBe('0:00');
    expect(clockText(65.5)).toBe('1:05.5');
    expect(clockText(59.96)).toBe('1:00');
    expect(clockText(3725)).toBe('62:05');
  });

  it('turns rows into the API pairs and back', () => {
    const rows = curvesFromApi({ period: [[0, 10], [90, 6]], colour: [[0, 1]] });
    expect(rows.period.map((r) => [r.time, r.value])).toEqual([['0:00', '10'], ['1:30', '6']]);
    expect(rows.colour).toBeUndefined();
    expect(curvesToApi(rows)).toEqual({ period: [[0, 10], [90, 6]] });
  });

  it('finds what the engine would refuse, row by row', () => {
    const curves = curvesFromApi({ period: [[0, 10], [60, 6]], reverb: [[0, 0.2], [30, 0.5]] });
    expect(curveProblems({ curves })).toEqual({});
    curves.period[1].time = '0:00';
    curves.reverb[0].value = '2';
    curves.reverb[1].time = '24:00:01';
    const problems = curveProblems({ curves });
    expect(problems.period.rows[curves.period[1].id]).toMatch(/after 0:00/);
    expect(problems.reverb.rows[curves.reverb[0].id]).toMatch(/from 0 to 1/);
    expect(problems.reverb.rows[curves.reverb[1].id]).toMatch(/at most 1440:00/);
    expect(curveProblems({ curves: curvesFromApi({ period: [[0, 10]] }), beatSync: true }).period.curve).toMatch(/beat sets the speed/);
  });
});

describe('Advanced: curves over time', () => {
  it('is closed at first, and sends a period curve with the job and with a render again', async () => {
    const api = await renderApp();
    const advanced = screen.getByTestId('advanced');
    expect(advanced.open).toBe(false);
    openAdvanced();
    expect(advanced.open).toBe(true);
    setCurve(advanced, 'Rotation period', [['0:00', 10], ['1:00', 6], ['2:30', 10]]);
    expect(within(advanced).queryAllByTestId('curve-problem')).toEqual([]);
    expect(within(advanced).getByText(/1 curve in use/)).toBeTruthy();

    const sent = await addSong(api);
    expect(sent.curves).toEqual({ period: [[0, 10], [60, 6], [150, 10]] });
    expect(sent.period).toBe(8);

    await waitFor(() => expect(api.uploads.length).toBe(1));
    await act(async () => api.uploads[0].resolve());
    await waitFor(() => expect(api.watchers.length).toBe(1));
    await act(async () =>
      api.watchers[0].onUpdate({ status: 'done', progress: 1, settings: { curves: sent.curves }, result: { url: '/store/x', filename: 'x', bytes: 10 } }),
    );
    expect(screen.getByTestId('curves-used').textContent).toBe('Over time: Rotation period 10 s at 0:00, 6 s at 1:00, 10 s at 2:30.');

    // A keyframe removed, then the whole song: the render carries the curve as it is now.
    fireEvent.click(screen.getByRole('button', { name: 'Remove keyframe 3 of rotation period' }));
    await act(async () => fireEvent.click(screen.getByTestId('convert-whole')));
    await waitFor(() => expect(api.rerendered.length).toBe(1));
    expect(api.rerendered[0].settings.curves).toEqual({ period: [[0, 10], [60, 6]] });
  });

  it('explains a mistake beside its row and sends nothing until it is fixed', async () => {
    const api = await renderApp();
    const advanced = openAdvanced();
    const curve = setCurve(advanced, 'Stereo width', [['0:30', 40], ['0:10', 200]]);
    const time = within(curve).getByLabelText(/^Time of keyframe 2/);
    const value = within(curve).getByLabelText(/^Value of keyframe 2/);
    expect(time.getAttribute('aria-invalid')).toBe('true');
    const message = document.getElementById(time.getAttribute('aria-describedby'));
    expect(message.textContent).toBe('The time must come after 0:30, the keyframe above.');
    expect(value.getAttribute('aria-describedby')).toBe(message.id);

    // Closed again and a song dropped: nothing goes out, Advanced opens and says why.
    fireEvent.click(within(advanced).getByText(/Advanced/));
    await dropFiles([audioFile('Held.mp3', 4000)]);
    expect(api.createJob).not.toHaveBeenCalled();
    expect(screen.queryAllByTestId('job')).toHaveLength(0);
    expect(advanced.open).toBe(true);
    const alert = within(advanced).getByRole('alert');
    expect(alert.textContent).toMatch(/Nothing was sent/);
    expect(document.activeElement).toBe(alert);

    fireEvent.change(time, { target: { value: '1:00' } });
    expect(document.getElementById(time.getAttribute('aria-describedby')).textContent).toBe('The value must be from 0 to 180°.');
    fireEvent.change(value, { target: { value: '180' } });
    expect(time.getAttribute('aria-invalid')).toBeNull();
    expect(within(advanced).queryByRole('alert')).toBeNull();
    expect((await addSong(api)).curves).toEqual({ width: [[30, 40], [60, 180]] });
  });

  it('holds back a period curve while the motion follows the beat', async () => {
    const api = await renderApp();
    const curve = setCurve(openAdvanced(), 'Rotation period', [['0:00', 12]]);
    fireEvent.click(screen.getByLabelText('Move with the beat'));
    expect(within(curve).getByTestId('curve-problem').textContent).toMatch(/Switch off “Move with the beat”/);
    await dropFiles([audioFile('Beat.mp3', 4000)]);
    expect(api.createJob).not.toHaveBeenCalled();
    fireEvent.click(within(curve).getByRole('button', { name: /Remove keyframe 1/ }));
    expect(await addSong(api)).toMatchObject({ beatsPerTurn: 16 });
  });

  it('shows a preset’s curves, and keeps one’s own when the next preset has none', async () => {
    const rise = { name: 'rise', description: 'Speeds up.', settings: { trajectory: 'circle', period: 10, curves: { period: [[0, 12], [45, 4]] } } };
    const api = await renderApp(fakeApi([rise]));
    const advanced = openAdvanced();
    fireEvent.change(screen.getByLabelText('Preset'), { target: { value: 'rise' } });
    const curve = within(advanced).getByRole('group', { name: 'Rotation period over time' });
    expect(within(curve).getByLabelText(/^Time of keyframe 2/).value).toBe('0:45');
    expect(within(curve).getByLabelText(/^Value of keyframe 2/).value).toBe('4');
    fireEvent.change(within(curve).getByLabelText(/^Value of keyframe 2/), { target: { value: '5' } });

    fireEvent.change(screen.getByLabelText('Preset'), { target: { value: 'slow' } });
    expect(within(curve).getByLabelText(/^Value of keyframe 2/).value).toBe('5');
    expect(await addSong(api)).toMatchObject({ preset: 'slow', period: 16, curves: { period: [[0, 12], [45, 5]] } });
  });
});
