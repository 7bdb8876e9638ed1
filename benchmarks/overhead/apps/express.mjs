// An express 5 app with one middleware and one parametrised route, as a user writes it.
import express from 'express';

const app = express();

app.use((req, res, next) => {
  res.setHeader('x-request-received', String(Date.now()));
  next();
});

app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, name: 'Ada' });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
