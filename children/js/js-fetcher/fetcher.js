// A child written in JavaScript. Built with componentize-js's default
// options, it imports wasi:http (for `fetch`) even when it never fetches:
// Patina links wasi:http for every child, with no authority behind it.

export function add(a, b) {
  return a + b;
}

export async function fetchText(url) {
  try {
    const response = await fetch(url);
    const body = await response.text();
    return `${response.status} ${body}`;
  } catch (error) {
    throw `${error}`;
  }
}
