"""PyTorch side of bench/pytorch-compare.ts: builds the network from the project's resolved layer list and runs the
same plain training step (SGD momentum, label smoothing, classifier dropout, weight decay on kernels, BN batch
statistics). Commands arrive as JSON lines on stdin; each answer is one JSON line on stdout.

  {"cmd": "load", "dir": ...}   net.json (layers, params), params.bin, images.bin, labels.bin
  {"cmd": "agree"}              loss and gradients (no dropout) of the loaded weights on the batch -> grads.bin
  {"cmd": "time", "steps": K, "threads": T}  per-step wall seconds of K training steps
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Net(torch.nn.Module):
    def __init__(self, layers, params):
        super().__init__()
        self.layers = layers
        self.p = torch.nn.ParameterDict()
        for name, value in params.items():
            self.p[name.replace('.', '__')] = torch.nn.Parameter(value)
        self.dropout_on = True

    def param(self, layer, name):
        return self.p[f"{layer['id']}.{name}".replace('.', '__')]

    def act(self, x, kind):
        if kind == 'relu':
            return F.relu(x)
        if kind == 'relu6':
            return F.hardtanh(x, 0.0, 6.0)
        if kind == 'hswish':
            return F.hardswish(x)
        return x

    def conv(self, layer, x, block):
        m, c, k, s = layer['filters'], layer['input']['channels'], layer['kernel'], layer['stride']
        z = layer['output']['channels']
        if layer['identity']:
            return block if layer['residual'] else x
        y = None
        if m > 0:
            top, bottom = same_pads(layer['input']['height'], k, s)
            left, right = same_pads(layer['input']['width'], k, s)
            inp = F.pad(x if layer['op'] == 'conv' else x[:, :m], (left, right, top, bottom))
            w = self.param(layer, 'kernel')
            if layer['op'] == 'conv':
                y = F.conv2d(inp, w, stride=s)
            else:
                y = F.conv2d(inp, w, stride=s, groups=m)
            if layer['bn']:
                y = F.batch_norm(y, None, None, self.param(layer, 'gamma'), self.param(layer, 'beta'), training=True, eps=1e-3)
            else:
                y = y + self.param(layer, 'bias').view(1, -1, 1, 1)
            y = self.act(y, layer['act'])
        r = layer['bypassChannels']
        if layer['residual']:
            if r == 0:
                return y
            skip = block[:, :r]
            if y is None:
                return skip
            if m < z:
                y = F.pad(y, (0, 0, 0, 0, 0, z - m))
            if r < z:
                skip = F.pad(skip, (0, 0, 0, 0, 0, z - r))
            return y + skip
        if r > 0:
            bypass = x[:, m:m + r, ::s, ::s]
            return bypass if y is None else torch.cat([y, bypass], 1)
        return y

    def forward(self, x):
        block = x
        unit = -1
        for layer in self.layers:
            if layer['unitIndex'] != unit:
                unit = layer['unitIndex']
                block = x
            op = layer['op']
            if op in ('conv', 'dwconv'):
                x = self.conv(layer, x, block)
            elif op == 'se':
                if layer['filters'] > 0:
                    pooled = x.mean((2, 3))
                    r = F.relu(F.linear(pooled, self.param(layer, 'reduce'), self.param(layer, 'reduce_bias')))
                    gate = F.hardsigmoid(F.linear(r, self.param(layer, 'expand'), self.param(layer, 'expand_bias')))
                    x = x * gate.view(x.shape[0], -1, 1, 1)
            elif op == 'gap':
                x = x.mean((2, 3), keepdim=True)
            elif op == 'upsample':
                x = F.interpolate(x, scale_factor=layer['scale'], mode='nearest')
            elif op == 'fc':
                x = x.flatten(1)
                if self.dropout_on and layer['dropout'] > 0:
                    x = F.dropout(x, layer['dropout'], training=True)
                x = self.act(F.linear(x, self.param(layer, 'kernel'), self.param(layer, 'bias')), layer['act'])
        return x


def to_torch(name, op, data, shape):
    t = torch.from_numpy(np.array(data, dtype=np.float32).reshape(shape))
    param = name.rsplit('.', 1)[1]
    if op == 'conv' and param == 'kernel':
        return t.permute(3, 2, 0, 1).contiguous()   # [k,k,C,M] -> [M,C,k,k]
    if op == 'dwconv' and param == 'kernel':
        return t.permute(2, 3, 0, 1).contiguous()   # [k,k,C,1] -> [C,1,k,k]
    if len(shape) == 2:
        return t.t().contiguous()                   # [in,out] -> [out,in] (linear)
    return t


def from_torch(op, name, t):
    param = name.rsplit('.', 1)[1]
    if op == 'conv' and param == 'kernel':
        return t.permute(2, 3, 1, 0)
    if op == 'dwconv' and param == 'kernel':
        return t.permute(2, 3, 0, 1)
    if t.dim() == 2:
        return t.t()
    return t


def macs(layers):
    total = 0
    for l in layers:
        o, i = l['output'], l['input']
        if l['op'] == 'conv' and l['filters'] > 0:
            total += l['kernel'] ** 2 * i['channels'] * l['filters'] * o['height'] * o['width']
        elif l['op'] == 'dwconv' and l['filters'] > 0:
            total += l['kernel'] ** 2 * l['filters'] * o['height'] * o['width']
        elif l['op'] == 'se' and l['filters'] > 0:
            total += 2 * i['channels'] * l['filters']
        elif l['op'] == 'fc':
            total += i['channels'] * l['filters']
    return total


def main():
    state = {}
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req['cmd']
        if cmd == 'load':
            d = req['dir']
            net = json.load(open(f'{d}/net.json'))
            flat = np.fromfile(f'{d}/params.bin', dtype='<f4')
            params = {}
            for p in net['params']:
                size = int(np.prod(p['shape']))
                params[p['name']] = to_torch(p['name'], p['op'], flat[p['offset']:p['offset'] + size], p['shape'])
            images = np.fromfile(f'{d}/images.bin', dtype='<f4').reshape(net['batchShape'])
            state['x'] = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
            state['y'] = torch.from_numpy(np.fromfile(f'{d}/labels.bin', dtype='<i4').astype(np.int64))
            state['net'] = Net(net['layers'], params)
            state['info'] = net
            state['dir'] = d
            decay = [v for k, v in state['net'].p.items() if k.rsplit('__', 1)[1] in ('kernel', 'reduce', 'expand')]
            other = [v for k, v in state['net'].p.items() if k.rsplit('__', 1)[1] not in ('kernel', 'reduce', 'expand')]
            state['opt'] = torch.optim.SGD([{'params': decay, 'weight_decay': net['weightDecay']}, {'params': other, 'weight_decay': 0.0}],
                                           lr=net['lr'], momentum=net['momentum'])
            print(json.dumps({'ok': True, 'macs': macs(net['layers']), 'torch': torch.__version__}), flush=True)
        elif cmd == 'agree':
            net = state['net']
            net.dropout_on = False
            net.zero_grad()
            loss = F.cross_entropy(net(state['x']), state['y'], label_smoothing=state['info']['labelSmoothing'])
            loss.backward()
            out = []
            for p in state['info']['params']:
                t = net.p[p['name'].replace('.', '__')]
                g = t.grad if t.grad is not None else torch.zeros_like(t)
                out.append(from_torch(p['op'], p['name'], g).contiguous().numpy().astype('<f4').ravel())
            np.concatenate(out).tofile(f"{state['dir']}/grads.bin")
            net.dropout_on = True
            net.zero_grad()
            print(json.dumps({'ok': True, 'loss': float(loss)}), flush=True)
        elif cmd == 'time':
            torch.set_num_threads(int(req['threads']))
            net, opt = state['net'], state['opt']
            times = []
            for _ in range(int(req['steps'])):
                start = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(net(state['x']), state['y'], label_smoothing=state['info']['labelSmoothing'])
                loss.backward()
                opt.step()
                float(loss)
                times.append(time.perf_counter() - start)
            print(json.dumps({'ok': True, 'times': times, 'threads': torch.get_num_threads()}), flush=True)
        else:
            print(json.dumps({'ok': False, 'error': f'unknown command {cmd}'}), flush=True)


if __name__ == '__main__':
    main()
