import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { toErrorBody } from './common/http-error.filter';
import { Env } from './config/env';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The same application for `npm start` and for the tests. */
export async function createApp(env: Env): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // exec stdin may be 1 MiB of text; JSON escaping can double it.
    bodyLimit: 4 * 1024 * 1024,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      // pino-http reads req.id, so the access log and the error body carry the same id.
      (req as IncomingMessage & { id?: string }).id = id;
      return id;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    bufferLogs: true,
    // Throw instead of process.exit, so main() reports it and tests see the error.
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // Errors Fastify raises before a route runs (bad JSON, wrong content type, body too big)
  // get the same error shape as everything else.
  fastify.setErrorHandler((error, request, reply) => {
    const body = { ...toErrorBody(error), requestId: String(request.id) };
    void reply.status(body.statusCode).send(body);
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('warmpool')
      .setDescription(
        'Warm pools of pre-booted containers, leased to CI builds in milliseconds. Error shape: ' +
          '{ statusCode, code, message, details }.',
      )
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  await app.init();
  await fastify.ready();
  return app;
}
