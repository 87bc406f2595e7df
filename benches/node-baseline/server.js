// A typical Express 4 + Mongoose 6 tutorial task API, written as the tutorials write it, for
// scripts/load.sh --vs-node to compare with TaskFlow on the same database (docs/bench/notes.md).
//
//   MONGO_URI=mongodb://127.0.0.1:27017/tasks JWT_SECRET=... PORT=5000 node server.js
const express = require('express');
const mongoose = require('mongoose');

const app = express();
app.use(express.json());

app.use('/api/v1/auth', require('./routes/auth'));
app.use('/api/v1/tasks', require('./routes/tasks'));

app.use((req, res) => res.status(404).json({ message: 'Not found' }));
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  console.error(err);
  res.status(500).json({ message: 'Server error' });
});

const PORT = process.env.PORT || 5000;
const HOST = process.env.HOST || '127.0.0.1';

mongoose.set('strictQuery', true);
mongoose
  .connect(process.env.MONGO_URI)
  .then(() => {
    app.listen(PORT, HOST, () => console.log(`Server running on ${HOST}:${PORT}`));
  })
  .catch((err) => {
    console.error(`MongoDB connection error: ${err.message}`);
    process.exit(1);
  });
