// conf-hello in JavaScript (componentize-js): logs through the `log` toy.
import { log } from 'patina:toys/log@0.1.0';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

export function greet(name) {
  log('info', `greeting ${name}`);
  return `hello, ${name}!`;
}

export function chatter(n) {
  for (let i = 0; i < n; i++) log(LEVELS[i % LEVELS.length], `line ${i}`);
  return n;
}
