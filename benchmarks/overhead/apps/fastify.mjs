// A fastify 5 app with the same parametrised route, as a user writes it.
import Fastify from 'fastify';

const app = Fastify();

app.get('/users/:id', async (request) => {
  return { id: request.params.id, name: 'Ada' };
});

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${new URL(address).port}`);
