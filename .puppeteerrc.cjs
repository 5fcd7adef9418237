// Use the system Chromium (Debian's `chromium`); Puppeteer's own download cannot run offline.
module.exports = {
  skipDownload: true,
  executablePath: process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium',
};
